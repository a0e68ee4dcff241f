import Foundation
import Testing

/// `trident train` on SmolLM2-135M (Q4_1, dequantized to float32 master weights) against the
/// float64 autograd reference in `Tests/Fixtures/training/smollm2-q4_1.license.json` (B=2,
/// L=64, constant lr 1e-4, no decay, no clipping, `models/LICENSE.txt`): the issue's
/// independent check, held to its tolerances.
@Suite("trident train on SmolLM2",
       .enabled(if: CLIPaths.binary != nil && CLIPaths.smolLM2Available
                    && FileManager.default.fileExists(atPath: CLIPaths.license),
                "needs a built trident, the SmolLM2 model and models/LICENSE.txt"))
struct TrainSmolLM2Tests {
    @Test("five AdamW steps: step 1 loss and grad_norm within 1e-4 relative, the five losses within 1e-3")
    func matchesReference() throws {
        let reference = try TrainCLITests.reference("smollm2-q4_1")
        #expect(reference.count == 5)
        let result = try runCLI(["train", "--model", CLIPaths.smolLM2, "--data", CLIPaths.license, "--seq-len", "64",
                                 "--micro-batch", "2", "--steps", "5", "--lr", "1e-4", "--json"], timeout: 600)
        #expect(result.status == 0, "\(result.transcript)")
        let steps = result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["step"] != nil }
        TrainCLITests.expectReference(steps, reference, "SmolLM2 Q4_1")
    }
}
