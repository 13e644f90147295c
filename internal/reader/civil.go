package reader

// Digits parses s, a fixed-width run of decimal digits (a field of a
// timestamp); any other byte, or none, is not one.
func Digits[T string | []byte](s T) (int, bool) {
	if len(s) == 0 {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// DaysIn is the number of days of month (1-12) in year, in the proleptic
// Gregorian calendar package time uses.
func DaysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
