// TridentLauncher
