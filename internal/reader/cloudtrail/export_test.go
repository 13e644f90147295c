package cloudtrail

// UsePool makes the pool of batch buffers p for a test of another package
// (the pipeline's, end to end).
var UsePool = usePool
