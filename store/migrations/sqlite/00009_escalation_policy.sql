-- +goose Up
-- Each scheduled escalation row keeps the policy step it was scheduled
-- from (JSON), copied when the case opens: a config edit that adds, drops
-- or reorders steps no longer changes what an already scheduled row does.
-- '' on rows from before: those still read the step from the config.
ALTER TABLE escalations ADD COLUMN policy_step TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE escalations DROP COLUMN policy_step;
