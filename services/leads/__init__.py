"""The leads service: intake, grading, entity normalisation and triage of leads."""
