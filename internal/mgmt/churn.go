package mgmt

import "context"

// Churn is the broker's own count of objects created and closed since its
// statistics began (the overview's churn_rates), across every client. The
// management agent gathers them every collect_statistics_interval (5 s by
// default), so a reading lags the broker by up to that.
type Churn struct {
	ConnectionsCreated int64 `json:"connection_created"`
	ConnectionsClosed  int64 `json:"connection_closed"`
	ChannelsCreated    int64 `json:"channel_created"`
	ChannelsClosed     int64 `json:"channel_closed"`
	QueuesDeclared     int64 `json:"queue_declared"`
	QueuesCreated      int64 `json:"queue_created"`
	QueuesDeleted      int64 `json:"queue_deleted"`
}

// Churn reads the broker's churn counters now.
func (c *Client) Churn(ctx context.Context) (Churn, error) {
	var o struct {
		Churn Churn `json:"churn_rates"`
	}
	err := c.get(ctx, "/api/overview", &o)
	return o.Churn, err
}
