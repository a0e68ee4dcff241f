// TridentTokenizer
