package request

// NewAccounts are the accounts a change replaces the link's with: the new
// account, then any new Azure subscriptions (none when the change keeps
// the accounts).
func (c Change) NewAccounts() []string {
	if c.ReplaceCustomerAccount == "" {
		return nil
	}
	out := []string{c.ReplaceCustomerAccount}
	for _, s := range c.ReplaceCustomerSubscriptions {
		if s != c.ReplaceCustomerAccount {
			out = append(out, s)
		}
	}
	return out
}
