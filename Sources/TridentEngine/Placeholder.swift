// TridentEngine
