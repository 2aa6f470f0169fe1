"""Citizens' on-site reports (phản ánh hiện trường): a public form and an Open311-like API, moderation,
routing to the agency in charge, and the public progress of each approved report."""
