import Foundation
import Testing
@testable import TridentLauncher
#if canImport(Glibc)
import Glibc
#endif

/// Elastic agents of several "nodes" in this process on 127.0.0.1, running `/bin/sh` workers
/// that record their variables and fail on cue.
@Suite("Elastic agent", .serialized)
struct ElasticAgentTests {
    /// Log lines of one agent, thread-safe.
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
        var text: String { all.joined(separator: "\n") }
    }

    /// Runs `agent` on its own thread; `wait()` returns its error (nil: success).
    final class Running: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var error: ElasticError?
        init(_ agent: ElasticAgent) {
            Thread.detachNewThread { [self] in
                do throws(ElasticError) { try agent.run() } catch { self.error = error }
                done.signal()
            }
        }
        func wait(seconds: Double) -> ElasticError?? {
            done.wait(timeout: .now() + seconds) == .success ? .some(error) : nil
        }
    }

    static func agent(node: Int, port: Int, nodes: NodeCountRange, restarts: Int, script: String, directory: URL,
                      lines: Lines) -> ElasticAgent {
        var configuration = LaunchConfiguration(executable: "/bin/sh", arguments: ["-c", script], processCount: 1,
                                                nodeCount: nodes.maximum, nodeRank: node, masterAddress: "127.0.0.1",
                                                masterPort: port, environment: ["OUT": directory.path, "TRIDENT_HOST_ID": "node-\(node)"],
                                                secret: "elastic-test", terminationGrace: .seconds(2))
        configuration.prefixOutput = true
        var policy = ElasticPolicy(nodes: nodes, maxRestarts: restarts)
        policy.lastCall = .seconds(10)
        policy.settle = .seconds(1)
        policy.heartbeatTimeout = .seconds(3)
        policy.formingTimeout = .seconds(20)
        return ElasticAgent(configuration, policy: policy) { lines.append($0) }
    }

    /// `RANK WORLD_SIZE RESTART GROUP_RANK HOST` lines the workers wrote.
    static func records(_ directory: URL) -> [String] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("ranks"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init).sorted()
    }

    static let record = "echo \"$RANK $WORLD_SIZE $TORCHELASTIC_RESTART_COUNT $GROUP_RANK $TRIDENT_HOST_ID\" >> \"$OUT/ranks\"; "

    @Test("--nnodes 1:2: node 1's worker killed -> node 1 leaves, node 0 restarts alone with WORLD_SIZE 1 and restart count 1; logged")
    func shrinkAfterKill() throws {
        try withDirectory { directory in
            let port = try LocalLauncher.freePort(host: "127.0.0.1")
            let script = Self.record + """
                if [ "$TORCHELASTIC_RESTART_COUNT" = 0 ]; then
                  if [ "$RANK" = 1 ]; then sleep 0.3; kill -9 $$; fi
                  exec sleep 30
                fi
                exit 0
                """
            let (log0, log1) = (Lines(), Lines())
            let nodes = try NodeCountRange(parsing: "1:2")
            let node0 = Running(Self.agent(node: 0, port: port, nodes: nodes, restarts: 2, script: script, directory: directory, lines: log0))
            let node1 = Running(Self.agent(node: 1, port: port, nodes: nodes, restarts: 2, script: script, directory: directory, lines: log1))
            let first = try #require(node0.wait(seconds: 60), "node 0 did not finish: \(log0.text)")
            #expect(first == nil, "node 0: \(String(describing: first))\n\(log0.text)")
            let second = try #require(node1.wait(seconds: 20), "node 1 did not finish: \(log1.text)")
            guard case .excluded(let reason) = second else {
                Issue.record("node 1 should have left: \(String(describing: second))\n\(log1.text)")
                return
            }
            #expect(reason.contains("rank 1 was killed by signal 9 (SIGKILL)"), "\(reason)")
            #expect(Self.records(directory) == ["0 1 1 0 node-0", "0 2 0 0 node-0", "1 2 0 1 node-1"], "\(Self.records(directory))")
            let restart = log0.all.first { $0.contains("restart 1 of at most 2") } ?? ""
            #expect(restart.contains("rank 1 was killed by signal 9 (SIGKILL)") && restart.contains("world size 2 -> 1"), "\(log0.text)")
            #expect(log0.text.contains("the job finished"), "\(log0.text)")
        }
    }

    @Test("--max-restarts 1 with a worker that always fails: one restart, then the error names the last failure")
    func restartsExhausted() throws {
        try withDirectory { directory in
            let lines = Lines()
            let agent = Self.agent(node: 0, port: 0, nodes: NodeCountRange(minimum: 1, maximum: 1), restarts: 1,
                                   script: Self.record + "exit 3", directory: directory, lines: lines)
            let error = try #require(Running(agent).wait(seconds: 60), "no end: \(lines.text)")
            guard case .jobFailed(let reason) = error else {
                Issue.record("expected a failed job: \(String(describing: error))\n\(lines.text)")
                return
            }
            #expect(reason.contains("rank 0 exited with status 3") && reason.contains("--max-restarts 1"), "\(reason)")
            #expect(Self.records(directory) == ["0 1 0 0 node-0", "0 1 1 0 node-0"])
            #expect(lines.text.contains("restart 1 of at most 1"), "\(lines.text)")
        }
    }

    @Test("--nnodes 2:2 with one node: forming fails naming MIN; a node leaving a 2:2 job fails it (MIN not met)")
    func minimumNotMet() throws {
        try withDirectory { directory in
            let lines = Lines()
            var configuration = Self.agent(node: 0, port: try LocalLauncher.freePort(host: "127.0.0.1"),
                                           nodes: NodeCountRange(minimum: 2, maximum: 2), restarts: 1, script: "exit 0",
                                           directory: directory, lines: lines).configuration
            configuration.secret = "elastic-test-2"
            var policy = ElasticPolicy(nodes: NodeCountRange(minimum: 2, maximum: 2), maxRestarts: 1)
            policy.formingTimeout = .seconds(1)
            let error = try #require(Running(ElasticAgent(configuration, policy: policy) { lines.append($0) }).wait(seconds: 30))
            #expect(error == .formingTimedOut(registered: 1, minimum: 2, seconds: 1), "\(String(describing: error))")
            #expect(error?.description.contains("at least 2") == true)

            let port = try LocalLauncher.freePort(host: "127.0.0.1")
            let nodes = NodeCountRange(minimum: 2, maximum: 2)
            let (log0, log1) = (Lines(), Lines())
            let agent1 = Self.agent(node: 1, port: port, nodes: nodes, restarts: 3, script: Self.record + "exec sleep 30",
                                    directory: directory, lines: log1)
            let node0 = Running(Self.agent(node: 0, port: port, nodes: nodes, restarts: 3, script: Self.record + "exec sleep 30",
                                           directory: directory, lines: log0))
            let node1 = Running(agent1)
            let started = (0..<100).contains { _ in usleep(100_000); return Self.records(directory).count == 2 }
            #expect(started, "the workers did not start: \(log0.text)")
            agent1.interrupted(by: SIGTERM)
            let first = try #require(node0.wait(seconds: 30), "node 0 did not end: \(log0.text)")
            guard case .jobFailed(let reason) = first else {
                Issue.record("expected a failed job: \(String(describing: first))\n\(log0.text)")
                return
            }
            #expect(reason.contains("needs at least 2") && reason.contains("left the job"), "\(reason)")
            #expect(try #require(node1.wait(seconds: 20)) == .interrupted(signal: SIGTERM))
        }
    }

    private func withDirectory(_ body: (URL) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("elastic-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory)
    }
}
