extension TensorRegion {
    /// A contiguous range of this region's elements (row-major, `[rows.count, columns.count]`)
    /// as at most three rectangles of the full tensor: the rest of the first row, the whole rows
    /// in the middle, the start of the last row. Each comes with the offset of its first element
    /// in `range`'s own numbering (0 for `range.lowerBound`). A ZeRO-1 slice of a parameter view
    /// is such a range; written as rectangles, any layout reads it back (`ShardedCheckpointReader`).
    ///
    /// Example: region rows 2..<5 x columns 0..<4 (12 elements), range 3..<10 gives
    /// (rows 2..<3 x columns 3..<4, 0), (rows 3..<4 x columns 0..<4, 1), (rows 4..<5 x columns 0..<2, 5).
    public func rectangles(ofElements range: Range<Int>) -> [(region: TensorRegion, offset: Int)] {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "elements \(range) outside \(self)")
        let width = columns.count
        guard !range.isEmpty, width > 0 else { return [] }
        var pieces: [(region: TensorRegion, offset: Int)] = []
        var position = range.lowerBound
        func add(row: Int, firstColumn: Int, rowCount: Int, columnCount: Int) {
            let region = TensorRegion(rows: (rows.lowerBound + row)..<(rows.lowerBound + row + rowCount),
                                      columns: (columns.lowerBound + firstColumn)..<(columns.lowerBound + firstColumn + columnCount))
            pieces.append((region, position - range.lowerBound))
            position += rowCount * columnCount
        }
        if position % width != 0 {
            add(row: position / width, firstColumn: position % width, rowCount: 1,
                columnCount: min(width - position % width, range.upperBound - position))
        }
        let wholeRows = (range.upperBound - position) / width
        if wholeRows > 0 { add(row: position / width, firstColumn: 0, rowCount: wholeRows, columnCount: width) }
        if position < range.upperBound { add(row: position / width, firstColumn: 0, rowCount: 1, columnCount: range.upperBound - position) }
        return pieces
    }
}
