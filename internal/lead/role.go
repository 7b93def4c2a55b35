package lead

// Role is what a staff token may do. Admin includes everything sales may do.
type Role string

const (
	RoleSales Role = "sales"
	RoleAdmin Role = "admin"
)

// ParseRole accepts "sales" or "admin".
func ParseRole(s string) (Role, bool) {
	switch Role(s) {
	case RoleSales, RoleAdmin:
		return Role(s), true
	}
	return "", false
}

// Allows reports whether a holder of r may do what needs the role need.
func (r Role) Allows(need Role) bool {
	return r == RoleAdmin || r == need
}
