extension GGUFFile {
    /// The metadata value for `key`, or throws `missingKey`.
    public func value(_ key: String) throws(GGUFError) -> GGUFValue {
        guard let value = metadata[key] else { throw .missingKey(key) }
        return value
    }

    /// A string value. Throws `missingKey` or `wrongType`.
    public func string(_ key: String) throws(GGUFError) -> String {
        try typed(key, "STRING") { $0.string }
    }

    /// Any integer value (UINT8 ... INT64) that fits in `Int`. Throws `missingKey` or `wrongType`.
    public func int(_ key: String) throws(GGUFError) -> Int {
        try typed(key, "an integer") { $0.int }
    }

    /// A FLOAT32 or FLOAT64 value (integers are accepted too). Throws `missingKey` or `wrongType`.
    public func float(_ key: String) throws(GGUFError) -> Float {
        Float(try double(key))
    }

    /// A FLOAT64 or FLOAT32 value (integers are accepted too). Throws `missingKey` or `wrongType`.
    public func double(_ key: String) throws(GGUFError) -> Double {
        try typed(key, "a number") { $0.double }
    }

    /// A BOOL value. Throws `missingKey` or `wrongType`.
    public func bool(_ key: String) throws(GGUFError) -> Bool {
        try typed(key, "BOOL") { $0.bool }
    }

    /// An ARRAY of STRING (e.g. `tokenizer.ggml.tokens`). Throws `missingKey` or `wrongType`.
    public func stringArray(_ key: String) throws(GGUFError) -> [String] {
        try typed(key, "ARRAY[STRING]") { $0.stringArray }
    }

    /// An ARRAY of integers (e.g. `tokenizer.ggml.token_type`). Throws `missingKey` or `wrongType`.
    public func intArray(_ key: String) throws(GGUFError) -> [Int] {
        try typed(key, "ARRAY of integers") { value in
            guard let elements = value.array else { return nil }
            var out: [Int] = []
            out.reserveCapacity(elements.count)
            for element in elements {
                guard let number = element.int else { return nil }
                out.append(number)
            }
            return out
        }
    }

    /// An ARRAY of numbers as `Float` (e.g. `tokenizer.ggml.scores`). Throws `missingKey` or `wrongType`.
    public func floatArray(_ key: String) throws(GGUFError) -> [Float] {
        try typed(key, "ARRAY of numbers") { value in
            guard let elements = value.array else { return nil }
            var out: [Float] = []
            out.reserveCapacity(elements.count)
            for element in elements {
                guard let number = element.double else { return nil }
                out.append(Float(number))
            }
            return out
        }
    }

    private func typed<T>(_ key: String, _ expected: String,
                          _ convert: (GGUFValue) -> T?) throws(GGUFError) -> T {
        let value = try value(key)
        guard let converted = convert(value) else {
            throw .wrongType(key: key, expected: expected, found: value.typeName)
        }
        return converted
    }
}
