package vpcflow

// UsePool makes the pool of column buffers p for a test of another package
// (the pipeline's, end to end).
var UsePool = usePool
