"""Release: the sharing policy, per-team feeds, and the national systems that read them."""
