"""OpenHands trajectories and evaluation outputs."""
