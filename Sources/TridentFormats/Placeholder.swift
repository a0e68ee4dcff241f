// TridentFormats
