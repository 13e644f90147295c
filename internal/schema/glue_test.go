package schema

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGlueTableMatchesDDL: the Glue form holds exactly the columns,
// partitions and projection properties of the CREATE TABLE statement.
func TestGlueTableMatchesDDL(t *testing.T) {
	for _, cfg := range []DDLConfig{
		{Table: "flow_logs_parquet", Schema: VPCFullSchema(), Partitions: []string{"year", "month", "day"}, Projection: true},
		{Table: "s3_access_logs_parquet", Schema: S3AccessSchema(), Partitions: []string{"year", "month", "day"}, Projection: true, YearRange: "2019,NOW"},
		{Table: "cloudtrail_logs_parquet", Schema: CloudTrailSchema(), Partitions: []string{"account", "region", "year", "month", "day"},
			Projection: true, InjectedPartitions: []string{"account"}, EnumPartitions: map[string][]string{"region": {"cn-north-1", "cn-northwest-1"}}},
		{Table: "plain", Schema: S3AccessSchema(), Partitions: []string{"year", "month", "day"}},
	} {
		t.Run(cfg.Table, func(t *testing.T) {
			cfg.Location = "s3://bucket/prefix/"
			ddl, err := AthenaDDL(cfg)
			require.NoError(t, err)
			loc := cfg.Location
			cfg.Location = ""
			g, err := GlueTableOf(cfg)
			require.NoError(t, err)
			require.Equal(t, cfg.Table, g.Name)
			require.Len(t, g.Columns, cfg.Schema.NumFields())
			for i, c := range g.Columns {
				sep := ","
				if i == len(g.Columns)-1 {
					sep = ""
				}
				require.Contains(t, ddl, "  `"+c.Name+"` "+c.Type+sep+"\n")
			}
			require.Len(t, g.PartitionKeys, len(cfg.Partitions))
			for _, p := range g.PartitionKeys {
				require.Contains(t, ddl, "`"+p.Name+"` string")
			}
			props := 0
			for _, p := range g.Parameters[2:] {
				require.Contains(t, ddl, "'"+p.Key+"'='"+p.Value+"'")
				props++
			}
			if cfg.Projection {
				require.Contains(t, ddl, "'storage.location.template'='"+loc+g.LocationTemplate+"'")
				props++
			} else {
				require.Empty(t, g.LocationTemplate)
			}
			require.Equal(t, strings.Count(ddl, "'='"), props, "every TBLPROPERTIES entry is a parameter")
		})
	}
	_, err := GlueTableOf(DDLConfig{Table: "Bad Name", Schema: S3AccessSchema()})
	require.ErrorIs(t, err, ErrDDL)
}
