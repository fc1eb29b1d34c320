"""RunningHub simulator: a stand-in for RunningHub used by tests, demo mode and benchmarks."""
