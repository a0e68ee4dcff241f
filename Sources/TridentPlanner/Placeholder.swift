// TridentPlanner
