/// Runs BPE on one pre-tokenized piece: repeatedly merges the adjacent pair with the lowest
/// rank (leftmost on ties) until no pair has a rank, like llama.cpp's `llm_tokenizer_bpe`.
struct BytePairEncoder {
    private struct Candidate: Comparable {
        var rank: Int32
        var left: Int32     // position of the left symbol
        var right: Int32    // position of the right symbol
        var leftSymbol: Int32
        var rightSymbol: Int32
        var result: Int32
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.rank != b.rank ? a.rank < b.rank : a.left < b.left
        }
    }

    /// Symbol ids of `bytes` after all merges. Ids >= `table.vocabularySize` are synthetic.
    static func encode(_ bytes: [UInt8], table: BPEMergeTable) -> [Int32] {
        let n = bytes.count
        if n == 0 { return [] }
        var symbols = bytes.map { table.byteSymbols[Int($0)] }   // [n]; -1 = merged away
        if n == 1 { return symbols }
        var next = Array(Int32(1)...Int32(n))                       // [n]; n = none
        next[n - 1] = -1
        var prev = Array(Int32(-1)..<Int32(n - 1))                  // [n]; -1 = none
        var heap = MinHeap<Candidate>()

        func consider(_ l: Int32, _ r: Int32) {
            guard l >= 0, r >= 0 else { return }
            let ls = symbols[Int(l)], rs = symbols[Int(r)]
            if let m = table.merge(ls, rs) {
                heap.push(Candidate(rank: m.rank, left: l, right: r, leftSymbol: ls, rightSymbol: rs,
                                    result: m.result))
            }
        }
        for i in 1..<n { consider(Int32(i - 1), Int32(i)) }
        while let c = heap.pop() {
            let l = Int(c.left), r = Int(c.right)
            guard symbols[l] == c.leftSymbol, symbols[r] == c.rightSymbol, next[l] == c.right else {
                continue                                             // outdated pair
            }
            symbols[l] = c.result
            symbols[r] = -1
            next[l] = next[r]
            if next[r] >= 0 { prev[Int(next[r])] = c.left }
            consider(prev[l], c.left)
            consider(c.left, next[l])
        }
        return symbols.filter { $0 >= 0 }
    }
}

/// A binary min-heap.
struct MinHeap<Element: Comparable> {
    private var items: [Element] = []

    mutating func push(_ x: Element) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if !(items[i] < items[parent]) { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Element? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && items[l] < items[m] { m = l }
                if r < items.count && items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
