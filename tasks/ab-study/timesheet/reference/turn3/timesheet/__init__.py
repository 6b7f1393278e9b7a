"""Time entries kept in timesheet.csv in the current directory."""
