// The raw HTTP client (and other helpers) shared with the other test targets.
@_exported import TridentTestSupport
