"""Rating rounds, ratings, the relationship pulse, reminders and reports (issues #4-#6)."""
