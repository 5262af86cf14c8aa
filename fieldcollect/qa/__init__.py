"""Quality inspection (录音质检, issue 21): recordings, transcripts, findings, reviews, training."""
