package report

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
)

// WriteHTML writes the report as one self-contained page: inline CSS, SVG
// charts drawn here, no script and no external asset, so it opens without
// network. Each table's cells hold the exact numbers of the JSON output;
// the charts show the first value column (bars) or the bytes of each day by
// class (stacked).
func WriteHTML(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	e := html.EscapeString
	rangeText := "all days"
	if r.From != "" || r.To != "" {
		rangeText = strings.TrimSpace(r.From + " to " + r.To)
	}
	p("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	p("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n")
	p("<title>convert report: %s, %s</title>\n<style>%s</style>\n</head>\n<body>\n", e(r.Kind), e(rangeText), pageCSS)
	p("<h1>convert report: %s</h1>\n", e(r.Kind))
	p("<p class=\"facts\">%s · %s · %d files (%s) · %d rows", e(r.Input), e(rangeText), r.Files, humanBytes(r.FileBytes), r.Rows)
	if r.Spills > 0 {
		p(" · %d spills of groups to disk", r.Spills)
	}
	p("</p>\n")
	for _, n := range r.Notes {
		p("<p class=\"note\">%s</p>\n", e(n))
	}
	p("<nav><ul>")
	for _, t := range r.Tables {
		p("<li><a href=\"#%s\">%s</a></li>", e(t.Name), e(t.Title))
	}
	p("</ul></nav>\n")
	for _, t := range r.Tables {
		p("<section id=\"%s\">\n<h2>%s</h2>\n", e(t.Name), e(t.Title))
		if len(t.Rows) == 0 {
			p("<p class=\"empty\">No rows.</p>\n")
		} else if t.Chart == "stacked" {
			stackedChart(bw, t)
		} else {
			barChart(bw, t)
		}
		p("<div class=\"scroll\">\n<table class=\"data\" data-table=\"%s\">\n<thead><tr>", e(t.Name))
		for _, c := range t.Columns {
			p("<th>%s</th>", e(c))
		}
		p("</tr></thead>\n<tbody>\n")
		for _, row := range t.Rows {
			p("<tr>")
			for _, v := range row {
				switch v := v.(type) {
				case nil:
					p("<td class=\"null\">NULL</td>")
				case int64:
					p("<td class=\"num\">%d</td>", v)
				default:
					p("<td>%s</td>", e(fmt.Sprint(v)))
				}
			}
			p("</tr>\n")
		}
		p("</tbody>\n</table>\n</div>\n")
		if t.Groups > int64(len(t.Rows)) {
			p("<p class=\"more\">%d of %d groups.</p>\n", len(t.Rows), t.Groups)
		}
		p("<details><summary>Athena SQL</summary><pre>%s</pre></details>\n</section>\n", e(t.SQL))
	}
	p("</body>\n</html>\n")
	return bw.Flush()
}

const pageCSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
.facts{color:#555}.note{background:#fff6d5;padding:.5em 1em;border-left:4px solid #e0b000}
table.data{border-collapse:collapse;margin:1em 0;font-size:13px}
table.data th,table.data td{border:1px solid #ddd;padding:2px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.null{color:#999}
svg{display:block;margin:1em 0}svg text{font:12px system-ui,sans-serif;fill:#222}
pre{background:#f5f5f5;padding:1em;overflow-x:auto}.more,.empty{color:#555}
.scroll{max-height:24em;overflow-y:auto;display:inline-block}thead th{position:sticky;top:0;background:#fff}
`

// chartBars is the number of rows a bar chart shows.
const chartBars = 20

func barChart(w *bufio.Writer, t Table) {
	keys := keyCount(t)
	rows := t.Rows[:min(len(t.Rows), chartBars)]
	var peak int64
	for _, r := range rows {
		if v, ok := r[keys].(int64); ok && v > peak {
			peak = v
		}
	}
	const width, labelW, barH, gap = 960, 420, 18, 4
	height := len(rows)*(barH+gap) + 24
	isBytes := t.Columns[keys] == "bytes"
	fmt.Fprintf(w, "<svg class=\"chart bars\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">\n",
		width, height, width, height, html.EscapeString(t.Title))
	for i, r := range rows {
		y := i*(barH+gap) + 4
		label := make([]string, keys)
		for k := range keys {
			label[k] = cellText(r[k])
		}
		v, _ := r[keys].(int64)
		bw := 0.0
		if peak > 0 {
			bw = float64(width-labelW-110) * float64(v) / float64(peak)
		}
		text := fmt.Sprint(v)
		if isBytes {
			text = humanBytes(v)
		}
		fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", labelW-6, y+barH-5, html.EscapeString(shorten(strings.Join(label, " → "), 64)))
		fmt.Fprintf(w, "<rect class=\"bar\" data-value=\"%d\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#3b78c2\"/>", v, labelW, y, max(bw, 1), barH)
		fmt.Fprintf(w, "<text x=\"%.1f\" y=\"%d\">%s</text>\n", float64(labelW)+max(bw, 1)+6, y+barH-5, text)
	}
	fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" fill=\"#555\">%s</text>\n", labelW, height-4, html.EscapeString(t.Columns[keys]+" (first "+fmt.Sprint(len(rows))+" rows)"))
	fmt.Fprint(w, "</svg>\n")
}

// classColors are the stacked chart's colours by traffic class.
var classColors = map[string]string{
	"intra_vpc": "#8fb3de", "internet_egress": "#d9534f", "internet_ingress": "#f0ad4e",
	"aws_service": "#5cb85c", "private_other": "#9370db", "unknown": "#999999", "": "#cccccc",
}

func stackedChart(w *bufio.Writer, t Table) {
	// Rows are (day, class, value), ordered by day then class.
	var days []string
	var classes []string
	for _, r := range t.Rows {
		d, c := cellText(r[0]), cellText(r[1])
		if len(days) == 0 || days[len(days)-1] != d {
			days = append(days, d)
		}
		if !slices.Contains(classes, c) {
			classes = append(classes, c)
		}
	}
	totals := map[string]int64{}
	var peak int64
	for _, r := range t.Rows {
		v, _ := r[2].(int64)
		totals[cellText(r[0])] += v
		peak = max(peak, totals[cellText(r[0])])
	}
	const plotH, left, perRow = 260, 80, 4
	legendH := 24*((len(classes)+perRow-1)/perRow) + 16
	height := legendH + plotH + 90
	colW := max(8, min(60, 860/max(len(days), 1)))
	width := max(left+colW*len(days)+20, 700)
	fmt.Fprintf(w, "<svg class=\"chart stacked\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">\n",
		width, height, width, height, html.EscapeString(t.Title))
	for i, c := range classes {
		color := classColors[c]
		if color == "" {
			color = "#444444"
		}
		x, y := left+(i%perRow)*150, 6+24*(i/perRow)
		fmt.Fprintf(w, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s</text>\n",
			x, y, color, x+16, y+11, html.EscapeString(classLabel(c)))
	}
	fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left-8, legendH+10, humanBytes(peak))
	fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n", left-8, legendH+plotH)
	fmt.Fprintf(w, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n", left-4, legendH+plotH, width-10, legendH+plotH)
	base := map[string]float64{}
	for _, r := range t.Rows {
		d, c := cellText(r[0]), cellText(r[1])
		v, _ := r[2].(int64)
		i := slices.Index(days, d)
		h := 0.0
		if peak > 0 {
			h = float64(plotH) * float64(v) / float64(peak)
		}
		y := float64(legendH+plotH) - base[d] - h
		base[d] += h
		color := classColors[c]
		if color == "" {
			color = "#444444"
		}
		fmt.Fprintf(w, "<rect class=\"seg\" data-day=\"%s\" data-class=\"%s\" data-value=\"%d\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"><title>%s %s: %s</title></rect>\n",
			html.EscapeString(d), html.EscapeString(c), v, left+i*colW, y, max(colW-2, 1), h, color,
			html.EscapeString(d), html.EscapeString(classLabel(c)), humanBytes(v))
	}
	step := max(1, len(days)/30)
	for i := 0; i < len(days); i += step {
		x, y := left+i*colW+colW/2, legendH+plotH+12
		fmt.Fprintf(w, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" transform=\"rotate(-45 %d %d)\">%s</text>\n", x, y, x, y, html.EscapeString(days[i]))
	}
	fmt.Fprint(w, "</svg>\n")
}

func classLabel(c string) string {
	if c == "" {
		return "NULL"
	}
	return c
}

func keyCount(t Table) int {
	for i, c := range t.Columns {
		if c == "bytes" || c == "requests" {
			return i
		}
	}
	return len(t.Columns) - 1
}

func cellText(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
