"""The economy domain: statistical series, investment projects and the smart-city programme."""
