// Seeded random data, finite differences and error measures shared with the other test targets.
@_exported import TridentTestSupport
