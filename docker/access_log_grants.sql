-- The gateway's PostgreSQL role on the access-log database: append and read, never rewrite.
--
--   psql -v gateway_role=credgate -f docker/access_log_grants.sql "postgresql://admin@db/credgate"
--
-- Run it as the owner of the tables (created by the first gateway start, or by
-- an administrator beforehand), once the tables exist. The gateway's role must
-- not own them: an owner may drop the guard triggers and grant itself back
-- whatever is revoked here. The head records (access_log_chains) move forward
-- with every commit, so they keep UPDATE; cutting them back is what the signed
-- checkpoints outside the database catch.
REVOKE ALL ON access_log, access_log_reports, access_log_chains FROM PUBLIC;
REVOKE ALL ON access_log, access_log_reports, access_log_chains FROM :"gateway_role";
GRANT SELECT, INSERT ON access_log, access_log_reports TO :"gateway_role";
GRANT SELECT, INSERT, UPDATE ON access_log_chains TO :"gateway_role";
