/// Drawing primitives the charts share; everything is clipped to the image.
extension RGBImage {
    /// A line from (x0, y0) to (x1, y1) (Bresenham), `thickness` pixels wide.
    public mutating func drawLine(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, color: (UInt8, UInt8, UInt8), thickness: Int = 1) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var error = dx + dy
        while true {
            for ox in 0..<thickness { for oy in 0..<thickness { set(x + ox, y + oy, color) } }
            if x == x1 && y == y1 { break }
            let doubled = 2 * error
            if doubled >= dy { error += dy; x += sx }
            if doubled <= dx { error += dx; y += sy }
        }
    }

    /// A filled `width × height` rectangle with its top-left corner at (x, y), clipped to the image.
    public mutating func fill(x: Int, y: Int, width: Int, height: Int, color: (UInt8, UInt8, UInt8)) {
        let (left, right) = (max(x, 0), min(x + width, self.width))
        let (top, bottom) = (max(y, 0), min(y + height, self.height))
        guard left < right, top < bottom else { return }
        for row in top..<bottom {
            for column in left..<right { set(column, row, color) }
        }
    }

    /// A filled disc of `radius` pixels centred on (x, y), clipped to the image.
    public mutating func fillCircle(x: Int, y: Int, radius: Int, color: (UInt8, UInt8, UInt8)) {
        guard radius >= 0 else { return }
        for dy in -radius...radius {
            for dx in -radius...radius where dx * dx + dy * dy <= radius * radius + radius { set(x + dx, y + dy, color) }
        }
    }
}
