import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Names of a job's shared-memory segments, and their removal by whoever supervises the job.
///
/// Segments are named `/trident-<job key>-<group>`: the job key is derived from the secret
/// and the master port, which every rank and every launcher of the job knows, so a launcher
/// can remove what its ranks left behind however they ended (a rank killed between creating
/// a segment and unlinking it once all peers attached).
public enum SharedMemoryJob {
    /// Job-unique key: FNV-1a of the secret, mixed with the master port.
    public static func jobKey(secret: String, masterPort: Int) -> UInt64 {
        let hash = secret.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
        return TCPCommunicator.mix(hash, UInt64(masterPort))
    }

    /// Segment name (with the leading slash `shm_open` wants) of group `groupID` of a job.
    static func name(jobKey: UInt64, groupID: UInt64) -> String {
        "/" + jobPrefix(jobKey: jobKey) + String(groupID, radix: 16)
    }

    /// File-name prefix, under `/dev/shm`, of every segment of the job.
    public static func jobPrefix(jobKey: UInt64) -> String { "trident-" + String(jobKey, radix: 16) + "-" }

    /// Unlinks every segment of the job still present on this host. - Returns: names removed.
    @discardableResult
    public static func removeJobSegments(jobKey: UInt64, directory: String = "/dev/shm") -> [String] {
        let prefix = jobPrefix(jobKey: jobKey)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(prefix) }.filter { shm_unlink("/" + $0) == 0 }
    }
}
