"""The window's tabs, one page each: what the user sees and clicks. Pages hold no job state; they
emit what the user asked for and show what the controllers report back."""
