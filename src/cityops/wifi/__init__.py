"""Community public wifi and cloud wifi for businesses: sessions, users, access-point health."""
