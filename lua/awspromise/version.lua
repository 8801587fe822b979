-- The version of awspromise, in one place: AWS.VERSION, the User-Agent header the C core sends
-- (the Makefile reads this file and compiles the string in) and the rockspec agree with it, as
-- spec/unit/version_spec.lua checks. The Makefile reads the line below with sed: keep it as
-- return "MAJOR.MINOR.PATCH".
return "0.1.0"
