-- Worker processes take part in the maintenance election as standby candidates (issue 10): they
-- lead only while no dedicated scheduler does, and a scheduler takes the lease over from them.
ALTER TABLE jobplane.leader_leases ADD COLUMN standby boolean NOT NULL DEFAULT false;
