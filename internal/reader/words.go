package reader

// WordBytes is the longest value the readers copy, and compare with values
// they know, as three 8-byte words instead of calls to memmove and memequal
// (short ids, names, addresses, actions: most values of the logs). The
// caller must have WordBytes bytes of room at both ends, the bytes past the
// value being read and written but never part of a column.
const WordBytes = 24

// WordMasks[n] cuts the three little-endian words holding a value of n
// bytes to its bytes, so that two values compare equal as words exactly
// when they are equal.
var WordMasks = func() (m [WordBytes + 1][3]uint64) {
	for n := range m {
		for w := range m[n] {
			if k := n - 8*w; k >= 8 {
				m[n][w] = ^uint64(0)
			} else if k > 0 {
				m[n][w] = ^uint64(0) >> (64 - 8*k)
			}
		}
	}
	return m
}()
