// Helpers of scripts/bench.sh. A module of their own, on the standard
// library only, so that they stay out of the registry's packages and
// dependency graph.
module github.com/dryad-lang/registry/scripts/bench

go 1.26
