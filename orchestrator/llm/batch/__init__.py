"""`--batch-api`: the providers' batch APIs (OpenAI Batch, Anthropic Message Batches) as
the engine of a run: requests built as live ones are, split by each provider's limits,
recorded before they are sent, polled, and their answers validated and recorded as live
answers are (`tracejury.orchestrator.run.batch_stage`)."""
