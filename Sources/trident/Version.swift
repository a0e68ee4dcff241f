/// The version `trident --version` prints; the one place it is defined.
enum TridentVersion {
    static let string = "0.16.0"
}
