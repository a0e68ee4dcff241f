import Testing
@testable import TridentPlanner

@Suite struct UnitsTests {
    @Test func decimalAndBinarySizes() throws {
        #expect(try Units.parseBytes("80GB") == 80e9)
        #expect(try Units.parseBytes("80GiB") == 80 * 1_073_741_824)
        #expect(try Units.parseBytes("1.5 MiB") == 1.5 * 1_048_576)
        #expect(try Units.parseBytes("512") == 512)
        #expect(try Units.parseBytes("8Gb") == 1e9)  // bits
        #expect(try Units.parseBytes("1e3kB") == 1e6)
    }

    @Test func ratesInBytesAndBits() throws {
        #expect(try Units.parseBytesPerSecond("300GB/s") == 300e9)
        #expect(try Units.parseBytesPerSecond("25Gb/s") == 3.125e9)
        #expect(try Units.parseBytesPerSecond("200Gbps") == 25e9)
        #expect(try Units.parseBytesPerSecond("12.5GiB/s") == 12.5 * 1_073_741_824)
    }

    @Test func durations() throws {
        #expect(try Units.parseSeconds("5us") == 5e-6)
        #expect(try Units.parseSeconds("1.5ms") == 1.5e-3)
        #expect(try Units.parseSeconds("2s") == 2)
    }

    @Test func rejectsAmbiguousOrMalformed() {
        #expect(throws: UnitParseError.self) { try Units.parseBytes("80gb") }  // g is not a prefix
        #expect(throws: UnitParseError.self) { try Units.parseBytes("eighty GB") }
        #expect(throws: UnitParseError.self) { try Units.parseBytes("80iB") }
        #expect(throws: UnitParseError.self) { try Units.parseBytes("-1GB") }
        #expect(throws: UnitParseError.self) { try Units.parseBytesPerSecond("300GB") }  // no /s
        #expect(throws: UnitParseError.self) { try Units.parseSeconds("5") }
    }

    @Test func errorSaysWhatWasExpected() {
        do {
            _ = try Units.parseBytes("80 gigs")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("80 gigs"))
            #expect(error.description.contains("GiB"))
        }
    }
}
