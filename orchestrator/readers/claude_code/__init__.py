"""Claude Code session transcripts (`~/.claude/projects/<project>/<sessionId>.jsonl`)."""
