"""Live watch: follow agent logs as they are written and alert on loops, repeated errors, stalls."""
