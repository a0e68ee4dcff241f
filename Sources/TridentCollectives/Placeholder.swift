// TridentCollectives
