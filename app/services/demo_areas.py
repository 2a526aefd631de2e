"""Imports every area's demo-history module so its seeders register. Areas add a line here."""
