"""Carbon inclusion (碳普惠): personal carbon accounts for low-carbon trips (issue 15)."""
