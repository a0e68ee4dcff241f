import Foundation
import Testing

/// `trident launch --nnodes MIN:MAX --max-restarts N`: two launcher processes on 127.0.0.1 act
/// as two nodes (distinct TRIDENT_HOST_ID, so their workers talk TCP).
@Suite("trident launch elastic", .serialized, .enabled(if: tridentBinary != nil, "needs the trident binary"))
struct ElasticLaunchTests {
    static func node(_ rank: Int, port: Int, secret: String, restarts: Int = 1, _ command: [String]) throws -> Child {
        try Child(tridentBinary!, ["launch", "--nnodes", "1:2", "--nproc", "1", "--max-restarts", String(restarts),
                                   "--node-rank", String(rank), "--master-port", String(port), "--"] + command,
                  environment: ["TRIDENT_SECRET": secret, "TRIDENT_HOST_ID": "elastic-node-\(rank)",
                                "TRIDENT_ELASTIC_LAST_CALL": "20"])
    }

    @Test("node 1's worker dies: node 1's launcher leaves naming it, node 0 restarts alone with WORLD_SIZE 1, restart count 1")
    func shrink() throws {
        let port = ServeCLITests.freePort(), secret = "elastic-\(UUID())"
        let script = """
            echo "worker $RANK/$WORLD_SIZE restart $TORCHELASTIC_RESTART_COUNT $TRIDENT_RESTART_COUNT group $GROUP_RANK/$GROUP_WORLD_SIZE"
            if [ "$TORCHELASTIC_RESTART_COUNT" = 0 ]; then [ "$RANK" = 1 ] && kill -9 $$; exec sleep 60; fi
            """
        let node1 = try Self.node(1, port: port, secret: secret, ["/bin/sh", "-c", script])
        let node0 = try Self.node(0, port: port, secret: secret, ["/bin/sh", "-c", script])
        let first = node0.finish(timeout: 90), second = node1.finish(timeout: 30)
        #expect(first.status == 0, "\(first.output)")
        for line in ["[rank 0] worker 0/2 restart 0 0 group 0/2", "[rank 0] worker 0/1 restart 1 1 group 0/1",
                     "restart 1 of at most 1: rank 1 was killed by signal 9 (SIGKILL) on node 1", "world size 2 -> 1",
                     "the job finished"] {
            #expect(first.output.contains(line), "missing '\(line)':\n\(first.output)")
        }
        #expect(second.status == 1, "\(second.output)")
        #expect(second.output.contains("[rank 1] worker 1/2 restart 0 0 group 1/2"), "\(second.output)")
        #expect(second.output.contains("trident: error: this node left the elastic job: its workers failed: rank 1 was killed by signal 9"),
                "\(second.output)")
        #expect(first.seconds < 60)
    }

    @Test("--max-restarts 1 exhausted on one node: non-zero, the error names the last failure; --nnodes 2:2 alone times out naming MIN")
    func failures() throws {
        let exhausted = try runChild(tridentBinary!, ["launch", "--nnodes", "1:1", "--max-restarts", "1", "--", "/bin/sh", "-c",
                                                      "echo try $TORCHELASTIC_RESTART_COUNT; exit 3"], timeout: 60)
        #expect(exhausted.status == 1, "\(exhausted.output)")
        #expect(exhausted.output.contains("[rank 0] try 0") && exhausted.output.contains("[rank 0] try 1"), "\(exhausted.output)")
        #expect(exhausted.output.contains("trident: error: elastic job failed: rank 0 exited with status 3")
                && exhausted.output.contains("no restart left (--max-restarts 1)"), "\(exhausted.output)")
        let alone = try runChild(tridentBinary!, ["launch", "--nnodes", "2:2", "--max-restarts", "1", "--rdzv-timeout", "2",
                                                  "--master-port", String(ServeCLITests.freePort()), "--", "/bin/true"],
                                 environment: ["TRIDENT_SECRET": "alone"], timeout: 60)
        #expect(alone.status == 1 && alone.output.contains("only 1 node(s) registered within 2 s, --nnodes needs at least 2"),
                "\(alone.output)")
        let bad = try runChild(tridentBinary!, ["launch", "--nnodes", "3:2", "--", "/bin/true"])
        #expect(bad.status != 0 && bad.output.contains("--nnodes"), "\(bad.output)")
    }

    @Test("training on 2 nodes, node 1's worker killed after a checkpoint: node 0 resumes at DP 1 and every step's loss equals the uninterrupted run's (1e-5 relative)",
          .enabled(if: FileManager.default.fileExists(atPath: CLIPaths.license), "needs models/LICENSE.txt"))
    func trainingShrinks() throws {
        try withTemporaryDirectory { directory in
            let train = ["train", "--model", CLIPaths.tinyModel("f32"), "--data", CLIPaths.license, "--init", "random",
                         "--seq-len", "128", "--micro-batch", "4", "--global-batch", "64", "--lr", "1e-3", "--shuffle",
                         "--steps", "12", "--threads", "1", "--json"]
            let reference = try runChild(tridentBinary!, train, timeout: 300)
            #expect(reference.status == 0, "\(reference.output)")
            let run = directory.appendingPathComponent("run").path
            let command = [tridentBinary!] + train + ["--dp", "auto", "--save", run, "--save-every", "2", "--resume", "auto"]
            let port = ServeCLITests.freePort(), secret = "elastic-train-\(UUID())"
            let node1 = try Self.node(1, port: port, secret: secret, restarts: 2, command)
            let node0 = try Self.node(0, port: port, secret: secret, restarts: 2, command)
            let saved = FaultToleranceTests.eventually(120) { FileManager.default.fileExists(atPath: run + "/latest") }
            let victim = FaultToleranceTests.workers(of: node1.process.processIdentifier).first
            #expect(saved && victim != nil, "no checkpoint or no worker on node 1")
            if let victim { kill(victim, SIGKILL) }
            let first = node0.finish(timeout: 300), second = node1.finish(timeout: 30)
            #expect(first.status == 0, "\(first.output)")
            #expect(second.status == 1 && second.output.contains("left the elastic job"), "\(second.output)")
            #expect(first.output.contains("world size 2 -> 1") && first.output.contains("layout --tp 1 --pp 1 --dp 1"), "\(first.output)")
            let expected = Self.losses(reference.output, prefix: "")
            let got = Self.losses(first.output, prefix: "[rank 0] ")
            #expect(Set(got.map(\.step)) == Set(1...12), "\(first.output)")
            for (step, loss) in got {
                let want = expected.first { $0.step == step }?.loss ?? .nan
                #expect(abs(loss - want) <= 1e-5 * abs(want), "step \(step): \(loss) vs uninterrupted \(want)")
            }
        }
    }

    /// `(step, loss)` of every JSON step line.
    static func losses(_ output: String, prefix: String) -> [(step: Int, loss: Double)] {
        output.split(separator: "\n").compactMap { raw in
            let line = raw.hasPrefix(prefix) ? raw.dropFirst(prefix.count) : raw[...]
            guard line.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = (object["step"] as? NSNumber)?.intValue, let loss = (object["loss"] as? NSNumber)?.doubleValue
            else { return nil }
            return (step, loss)
        }
    }
}
