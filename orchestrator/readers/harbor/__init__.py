"""Harbor jobs (Terminal-Bench 2): one trace per trial, ATIF trajectories."""
