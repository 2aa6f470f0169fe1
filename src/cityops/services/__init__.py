"""Online public services (dịch vụ công): dossiers of the one-stop system, the working-time calendar,
on-time classification and the Decision 766/QĐ-TTg service index."""
