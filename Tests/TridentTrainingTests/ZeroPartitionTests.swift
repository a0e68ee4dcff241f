import Testing
@testable import TridentTraining

@Suite("ZeRO-1 partition of the parameters among replicas")
struct ZeroPartitionTests {
    @Test("the doc comment's example: sizes [5, 3, 4], one bucket, D = 3")
    func workedExample() {
        let parts = (0..<3).map { ZeroPartition(sizes: [5, 3, 4], bucketBytes: 1 << 20, replicas: 3, replica: $0) }
        #expect(parts[0].buckets.map(\.members) == [[2, 1, 0]] && parts[0].buckets[0].shard == 4)
        #expect(parts[0].ownedRanges == [0..<0, 0..<0, 0..<4])
        #expect(parts[1].ownedRanges == [0..<1, 0..<3, 0..<0])
        #expect(parts[2].ownedRanges == [1..<5, 0..<0, 0..<0])
        #expect(parts[1].sliceRange(of: 1) == 0..<3 && parts[1].sliceRange(of: 0) == 3..<4 && parts[2].sliceRange(of: 0) == 0..<4)
    }

    @Test("every element is owned by exactly one replica, in one contiguous range per parameter",
          arguments: [1, 2, 3, 4, 7])
    func coversOnce(replicas: Int) {
        let sizes = [1600, 32, 1024, 512, 512, 1024, 32, 2048, 2048, 2048, 1, 0, 3, 32]
        for bucketBytes in [4, 2048, 6000, 1 << 30] {
            var owners = sizes.map { [Int](repeating: 0, count: $0) }
            var total = 0
            for replica in 0..<replicas {
                let part = ZeroPartition(sizes: sizes, bucketBytes: bucketBytes, replicas: replicas, replica: replica, isolated: [0])
                #expect(part.buckets.first { $0.members.contains(0) }?.members == [0], "the isolated parameter is alone")
                for (i, range) in part.ownedRanges.enumerated() {
                    #expect(range.lowerBound >= 0 && range.upperBound <= sizes[i])
                    for e in range { owners[i][e] += 1 }
                    #expect(part.sliceRange(of: i).count == range.count)
                    let bucket = part.buckets[part.bucketOfParameter[i]]
                    #expect(part.sliceRange(of: i).upperBound <= bucket.shard)
                }
                for bucket in part.buckets {
                    #expect(bucket.shard == (bucket.count + replicas - 1) / replicas)
                    #expect(bucket.owned.count <= bucket.shard)
                }
                total += part.ownedCount
            }
            #expect(owners.allSatisfy { $0.allSatisfy { $0 == 1 } }, "bucket \(bucketBytes) B, D = \(replicas)")
            #expect(total == sizes.reduce(0, +))
        }
    }

    @Test("buckets follow ParameterBuckets: reverse order, closed once they reach the size")
    func bucketing() {
        let part = ZeroPartition(sizes: [100, 200, 300, 50], bucketBytes: 1000, replicas: 2, replica: 0)
        #expect(part.buckets.map(\.members) == [[3, 2], [1, 0]])
        #expect(part.buckets.map(\.offsets) == [[0, 50], [0, 200]])
        // An isolated parameter closes the bucket before it and stands alone.
        let isolated = ZeroPartition(sizes: [100, 200, 300, 50], bucketBytes: 1000, replicas: 2, replica: 0, isolated: [1])
        #expect(isolated.buckets.map(\.members) == [[3, 2], [1], [0]])
    }

    @Test("a contiguous element range of a view as rectangles of the full tensor")
    func rectangles() {
        let region = TensorRegion(rows: 2..<5, columns: 0..<4)
        let pieces = region.rectangles(ofElements: 3..<10)
        #expect(pieces.map(\.region) == [TensorRegion(rows: 2..<3, columns: 3..<4), TensorRegion(rows: 3..<4, columns: 0..<4),
                                         TensorRegion(rows: 4..<5, columns: 0..<2)])
        #expect(pieces.map(\.offset) == [0, 1, 5])
        // A column slice (row-parallel view): rows of 3 columns starting at column 5.
        let columns = TensorRegion(rows: 0..<4, columns: 5..<8)
        #expect(columns.rectangles(ofElements: 0..<12).map(\.region) == [columns])
        #expect(columns.rectangles(ofElements: 4..<5).map(\.region) == [TensorRegion(rows: 1..<2, columns: 6..<7)])
        #expect(region.rectangles(ofElements: 4..<4).isEmpty)
        // Every split of every range covers exactly its elements, in order.
        for lower in 0...12 {
            for upper in lower...12 {
                var covered: [Int] = []
                for piece in region.rectangles(ofElements: lower..<upper) {
                    #expect(piece.offset == covered.count)
                    for row in piece.region.rows { for column in piece.region.columns { covered.append((row - 2) * 4 + column) } }
                }
                #expect(covered == Array(lower..<upper))
            }
        }
    }
}
