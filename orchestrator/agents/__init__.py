"""Tool-using agents that explore one trace: the loop, its confined read-only tools, its
transcripts, and the two jobs built on them (`self` team reports and `deep-dive`)."""
