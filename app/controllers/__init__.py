"""The app's jobs without widgets: each controller owns one kind of background work (its queue,
timers, cancel flag and counters), runs it in the worker pool and reports by signals. They can be
driven and checked in tests without a window."""
