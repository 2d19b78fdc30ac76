package gossip

import "sync"

// Tracker folds the event stream into one alive/dead view per stable
// member ID (Meta.ID), across incarnations: a worker that restarts joins
// under a new node name before its old name is declared dead, and that
// late death must not mark the worker dead. Use Tracker.OnEvent as
// Config.OnEvent. Notify is called on every transition of an ID (and on
// every join, which is harmless to repeat), never concurrently.
type Tracker struct {
	// Notify receives (id, role, alive).
	Notify func(id string, role Role, alive bool)

	mu    sync.Mutex
	names map[string]string              // node name → ID
	alive map[string]map[string]struct{} // ID → alive node names
}

// NewTracker returns a tracker calling notify.
func NewTracker(notify func(id string, role Role, alive bool)) *Tracker {
	return &Tracker{Notify: notify, names: map[string]string{}, alive: map[string]map[string]struct{}{}}
}

// OnEvent takes one event.
func (t *Tracker) OnEvent(e Event) {
	m := e.Member
	t.mu.Lock()
	id, known := t.names[m.Name]
	if m.MetaErr == nil && m.Meta.ID != "" {
		id = m.Meta.ID
	} else if !known {
		t.mu.Unlock()
		return // a member without our metadata
	}
	switch e.Kind {
	case EventJoin, EventUpdate:
		t.names[m.Name] = id
		set := t.alive[id]
		if set == nil {
			set = map[string]struct{}{}
			t.alive[id] = set
		}
		_, had := set[m.Name]
		set[m.Name] = struct{}{}
		t.mu.Unlock()
		if t.Notify != nil && (e.Kind == EventJoin || !had) {
			t.Notify(id, m.Meta.Role, true)
		}
	case EventLeave, EventDead:
		delete(t.names, m.Name)
		set := t.alive[id]
		delete(set, m.Name)
		gone := len(set) == 0
		if gone {
			delete(t.alive, id)
		}
		t.mu.Unlock()
		if gone && t.Notify != nil {
			t.Notify(id, m.Meta.Role, false)
		}
	default:
		t.mu.Unlock()
	}
}

// Alive reports whether some incarnation of id is alive.
func (t *Tracker) Alive(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.alive[id]) > 0
}
