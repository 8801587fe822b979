-- luacheck settings for `make lint` (tools/lint): the module's Lua under lua/, Lua 5.4 only.
std = "lua54"
-- The code keeps to about 120 columns; a few long messages and patterns run past it.
max_line_length = 140

-- profile.parse: an empty branch names the lines (blank, comment) it passes over on purpose.
files["lua/awspromise/profile.lua"] = {ignore = {"542"}}
