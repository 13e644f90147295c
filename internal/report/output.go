package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the report as one indented JSON object: the run's facts
// and the tables, each with its columns and rows (arrays of strings,
// integers and nulls, in the columns' order) and its SQL.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTSV writes each table as a block: a "# name: title" line, a header
// line of the column names, one line per row (NULL as an empty field; tabs,
// newlines and backslashes in values escaped as \t, \n and \\), and an empty
// line.
func WriteTSV(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	for _, t := range r.Tables {
		fmt.Fprintf(bw, "# %s: %s\n", t.Name, t.Title)
		fmt.Fprintln(bw, strings.Join(t.Columns, "\t"))
		for _, row := range t.Rows {
			for i, v := range row {
				if i > 0 {
					bw.WriteByte('\t')
				}
				bw.WriteString(tsvField(v))
			}
			bw.WriteByte('\n')
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

var tsvEscaper = strings.NewReplacer("\\", "\\\\", "\t", "\\t", "\n", "\\n", "\r", "\\r")

func tsvField(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return tsvEscaper.Replace(v)
	}
	return fmt.Sprint(v)
}
