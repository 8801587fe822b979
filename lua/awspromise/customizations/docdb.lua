-- DocDB: cross-region createDBCluster and copyDBClusterSnapshot (see rds_cross_region.lua).
return require("awspromise.customizations.rds_cross_region") {"CreateDBCluster", "CopyDBClusterSnapshot"}
